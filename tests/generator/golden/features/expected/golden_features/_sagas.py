"""Each operation as a saga step: may it be repeated, and how it is undone.

Loaded by the clients' ``operation()`` on first use, so that clients that
take no part in sagas never import the saga package.
"""

from __future__ import annotations

from seawall_runtime.saga import OperationRef

GET_SHAPE = OperationRef("getShape", True, None)

PUT_EVERYTHING = OperationRef("PUT /everything", True, None)

PUT_FILE = OperationRef("putFile", True, None)

SUBMIT_FORM = OperationRef("submitForm", False, None)

BY_OPERATION_ID: dict[str, OperationRef] = {
    "getShape": GET_SHAPE,
    "PUT /everything": PUT_EVERYTHING,
    "putFile": PUT_FILE,
    "submitForm": SUBMIT_FORM,
}
