"""Tests of the example services (a package, so module names cannot clash with other suites)."""
