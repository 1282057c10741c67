"""Inference on fitted models (report stage): denominator degrees of freedom (Satterthwaite,
Kenward–Roger), F and t tests, likelihood-ratio tests, confidence intervals, bootstrap."""
