from tests.staff.conftest import estate, insider, today  # noqa: F401 - the staff tests' unit with history
