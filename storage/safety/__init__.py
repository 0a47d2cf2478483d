"""What the crisis check keeps: the labels counsellors give messages, to retrain it.

`labels` (`SafetyLabelRepo`) records a label with a sealed copy of the words and
exports them; `schema` holds the table.
"""
