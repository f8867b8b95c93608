"""Helpers shared by the test levels (stores under test, fake AWS environment)."""
