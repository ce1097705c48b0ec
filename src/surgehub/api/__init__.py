"""The locality Submission API and upload page (issue 7): tokens, receipt, hand-off to the landing zone.

``create_app()`` (``surgehub.api.app``) is the FastAPI application that ``surgehub serve`` runs; see
docs/api.md for the contract, the design (exactly-once loading) and the limits.
"""
