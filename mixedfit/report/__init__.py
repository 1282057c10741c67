"""Report stage (6): a fitted model for people — lme4/lmerTest-style text (:mod:`.text`), the
summary object with tidy tables and HTML for notebooks (:mod:`.summary`), and diagnostic plots
(:mod:`.plots`, optional extra ``mixedfit[plot]``), and broom.mixed-style frames
(:mod:`.tidy`: ``tidy``, ``glance``, ``augment``, ``ranef_frame``).

Imports: the earlier stages only (the model, and the inference stage for profile plots).
"""
