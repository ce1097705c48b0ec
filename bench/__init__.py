"""`make bench`: surgehub's performance figures, each measured beside its baseline in the same run."""
