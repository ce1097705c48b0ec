"""The spec's rules, one module per family; each names its rules in its first line.

| rules | module | how |
|---|---|---|
| F01–F06 | `file.py` (the reading itself: `returns/read.py`) | plain Python, before there is a table |
| R01, R02 (and R03, R04 wording) | `cells.py` | typing every cell, vectorised (Arrow compute, pandas) |
| R05, R06, R07 | `identity.py` | vectorised over the sender, the hub register and the receipt day |
| R03, R04, R08–R14, R17 | `gx.py` runs the committed GX suite (`returns/suite.py`); R08 is worded there | Great Expectations |
| R09–R14, R17 | `arithmetic.py`: the derived columns the suite checks, and their wording | pandas |
| R15 | `comments.py` | vectorised |
| R16 | `patients.py`, on every cell of the file as it is read, and on the file's name (never in GX: the number must go nowhere) | vectorised pre-filter, then `surgehub.identifiers` |
| W01–W05 | `warnings.py` (W05 reads the warehouse through a lookup passed in) | vectorised; W05 per return |

`checks.py` holds what the families share: a rule family as a table of `Check` records. The
batch that runs them all over many returns at once is `returns/batch.py`; what an answer lists (50
findings a rule, totals, the rules not checked for want of a column) is `returns/listing.py`.
"""
