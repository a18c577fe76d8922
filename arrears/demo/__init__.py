"""The demo: a company with three years of history, named staff, logins and a scheduler (DESIGN.md §4)."""
