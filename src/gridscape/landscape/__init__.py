"""The loss landscape of the final model, f(α, β) = L(θ* + αδ + βη) (Li et al. 2018).

Modules, one job each:

* ``directions``: seeded Gaussian directions, filter/layer normalisation, save/load, cosine;
* ``grid``: coordinates, the flat point order, chunk ranges, the checked merge, ``Surface``;
* ``span``: points as weighted sums of weight sets (θ* + αδ + βη, (1 − t) θ0 + t θ*), set in place;
* ``evaluate``: in-memory data and ``evaluate_points`` / ``evaluate_span`` (loop, first_layer, compile, vmap);
* ``first_layer``: the first layer once per batch and weight set, shared by all points;
* ``line``: the 1-D slice along δ and the interpolation θ0 → θ*;
* ``data``: which images (training set of the final model or test set, optional subset);
* ``diagnostics``: centre vs L(θ*), edges, minimum, non-finite points, timing;
* ``steps``: functions from input paths to output files, called by the workflow's scripts;
* ``benchmark``: ``python -m gridscape.landscape.benchmark`` times loop against vmap here.

Orientation: surfaces are ``(num_beta, num_alpha)`` arrays, ``Z[j, i] = f(alpha[i], beta[j])``.
"""

# No re-exports: the Snakefile imports ``grid`` at parse time, which must not load torch.
