"""The Submission API's routes, one ``APIRouter`` per area; ``surgehub.api.app.create_app`` includes them."""
