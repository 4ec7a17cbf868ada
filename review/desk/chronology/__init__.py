"""The draft chronology: dated events in the participants' words, never a guessed date.

``mentions`` finds time expressions in a sentence, ``resolve`` turns them into dates at their
stated precision (anchoring "two weeks later" and a date without a year to a date earlier in
the same answer), ``table`` builds the rows from a pulled case, merges agency chronologies and
writes CSV and XLSX.
"""
