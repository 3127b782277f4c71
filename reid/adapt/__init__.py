"""Site adaptation with no labels: fine-tune the re-ID network on a processed database's own tracklets
(``adapt``), then re-embed the stored crops and link again (``relink``). See docs/linking.md, "Site adaptation".

- ``site``: the training set read from the database (crops, classes, known-different pairs)
- ``sampler``: P x K batches that put known-different identities together
- ``score``: label-free verification score on the site's known pairs
- ``init``: the starting model (offline ImageNet weights or a checkpoint)
- ``neck``: the retrieval feature centred on the site's crops (AdaBN)
- ``train``: ``AdaptTrainer``, the engine's ``Trainer`` with the site's data, start and score; its checkpoints
- ``relink``: re-embed stored crops, replace the embeddings, link again
"""

from reid.adapt.neck import fit_neck
from reid.adapt.relink import RelinkResult, reembed, relink
from reid.adapt.sampler import CoOccurrencePKSampler
from reid.adapt.score import SiteScore, site_score
from reid.adapt.site import SiteCrops, load_site_crops
from reid.adapt.train import AdaptResult, AdaptTrainer, adapt
from reid.config import AdaptConfig

__all__ = ["AdaptConfig", "AdaptResult", "AdaptTrainer", "CoOccurrencePKSampler", "RelinkResult", "SiteCrops", "SiteScore", "adapt",
           "fit_neck", "load_site_crops", "reembed", "relink", "site_score"]
