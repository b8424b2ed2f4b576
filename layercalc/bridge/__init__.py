"""The PyTorch bridge: ``export`` a spec to a PyTorch module, ``import`` a PyTorch model into a spec.

Export needs nothing beyond layercalc itself; import needs torch (``pip install "layercalc[torch]"``)
and, for HuggingFace configs, transformers (``layercalc[hf]``). The core never imports this package.
"""
