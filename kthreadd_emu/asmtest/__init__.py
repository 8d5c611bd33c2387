"""Assembly tests: ``.S`` files whose ``#@`` lines describe tests of their routines.

format (parse the lines) -> plan (resolve names against the assembled file)
-> run (one execution on the snapshotted machine) -> judge (the verdict)
-> runner (files, reports, JUnit); pytest_plugin collects them under pytest.
"""
