"""The cases journeys of the demo smoke run: `from devstore.demo import smoke_step, StepFailed, Demo, SHOP`."""
