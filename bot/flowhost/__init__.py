"""The host of the flow engine: which flow versions run now, and what a flow's effects touch.

    shelf    the published flows the bot runs on, and how a publish in the console reaches it
    ratings  the `record_rating` effect: one rating per closed case, codes only
"""
