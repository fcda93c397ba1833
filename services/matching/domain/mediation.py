"""What a mediator needs: the skill that makes one, and the one that helps (the levels
themselves are shared: shared/mediation.py)."""
MEDIATOR_SKILLS = ("mediation",)
HELPFUL_SKILLS = ("legal",)
