"""A synthetic Gravity Spy training set whose true morphologies and label failures are known.

``noise`` (aLIGO-like coloured noise), ``glitches`` (waveform models),
``render`` (GWpy Q-transform -> Gravity Spy figure), ``plan`` (planted label
failures), ``generate`` (parallel, resumable writer of the real file layout).
"""
