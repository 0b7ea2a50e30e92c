"""The study's report: a LaTeX document rendered with Jinja from the result files, then latexmk.

``context`` gathers every number from the result files, ``latex`` renders the templates with
an escaping filter, ``compile`` runs latexmk; ``model_summary``, ``augmentations`` and
``provenance`` supply the layer table, the augmentation verdicts and the appendix facts.
"""
