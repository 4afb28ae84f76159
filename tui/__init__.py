"""goldspan's terminal side: the Textual app and the ``goldspan`` command line."""
