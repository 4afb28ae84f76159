"""How sure the model is of each suggestion (issue 21): scorers that give an entity a probability,
and the figures that judge them on held-out gold (``calibration``)."""
