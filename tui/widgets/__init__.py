"""The annotator's widgets: the article, its entity list, and the status lines."""
