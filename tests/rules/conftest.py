"""The custody fixtures (officers, people admitted through the services) for the rule-pack tests."""

from tests.custody.conftest import actor, admission_steps, admit, fill, officers

__all__ = ["actor", "admission_steps", "admit", "fill", "officers"]
