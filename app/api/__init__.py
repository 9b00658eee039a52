def register(app):
    """Register the API blueprints on the app's flask-smorest Api."""
