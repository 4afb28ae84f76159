"""Everything in goldspan that is not the screen: data model, articles, spaCy, store, formats, metrics.

This package never imports Textual (an import-linter contract in pyproject checks it), so every
behaviour can be tested without a terminal.
"""
