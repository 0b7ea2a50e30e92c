"""The "exercises" study kind: small computations with no dataset (NUS CS5242 assignment 2,
questions 1, 4 and 6).

* ``functions``: the 1-D losses of question 1 (the bump, ReLU, sigmoid, |x|);
* ``optimizers``: gradient descent and Adam on them, step by step (and Adam against torch's);
* ``escape``: the largest bump height h that Adam still climbs over;
* ``receptive_field``: receptive fields of layer stacks, by formula and by autograd;
* ``ops``: question 4's layers re-implemented in numpy and compared with torch;
* ``steps``: what the workflow scripts call, and the report's context.

Importing this package, ``functions``, ``optimizers``, ``escape``, ``receptive_field`` or
``steps`` does not import torch: the report job reads the results without it. Torch is
imported inside the functions that need it.
"""
