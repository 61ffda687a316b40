"""A stateful local Stripe API (the sandbox's Stripe side), seeded consistently with the NetSuite sandbox.

Start it with `StripeSandboxServer` (server.py); docs/stripe-sandbox.md describes the API, the
admin API and the seeded scenarios.
"""
