"""surgehub: the GM winter surge-hub monitor."""
