"""Synthetic data: a believable facility for the demo, tests and benchmarks.

- `catalog`: what the loaded code tables offer, shaped as practice profiles (by code names).
- `names`: Chinese names by surname frequency, a few foreign nationals.
- `generate`: pure, seeded generation of unit trees, cells, people and history events.
- `seeding`: writes it all (services for the demo tree and accounts, bulk for the rest).
- `jianguan seed` (management command): the entry point.
"""
