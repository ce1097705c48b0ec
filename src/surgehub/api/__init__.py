"""The locality Submission API and upload page: tokens, receipt, hand-off to the landing zone.

``create_app`` (``surgehub.api.app``) wires the routers (``surgehub.api.routers``) to what they share
(``surgehub.api.dependencies``); ``Receiver`` (``surgehub.api.submissions``) does the work and
``Reader`` (``surgehub.api.states``) answers what was sent. ``surgehub serve`` runs the app; see
docs/api.md for the contract, the design (exactly-once loading) and the limits.
"""
