"""Matching initiatives: match suggestions, their persistence and review (`service`), the collaborations
that follow from a match, introductions between initiators, and the demo collaborations."""
