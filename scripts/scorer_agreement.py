"""Prints how the role-play scorer agrees with the hand-scored transcripts (make scorer-agreement)."""
from bot.evaluation.scorer import agreement, format_agreement

if __name__ == "__main__":
    print(format_agreement(agreement()))
