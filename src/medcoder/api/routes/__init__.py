"""Route modules, one per resource; each route parses, calls one service function and shapes the reply."""
