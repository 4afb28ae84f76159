"""Training from the gold: which articles are held out (``eval_split``), the gold as spaCy examples
(``examples``), the config spaCy trains from (``config``), a run of spaCy's own training loop
(``trainer``), the DB's record of trained models (``registry``) and the learning curve (``curve``)."""
