"""The work queue of a team on one DB: who gets which article (``routing``), set up by a lead (``settings``)."""
