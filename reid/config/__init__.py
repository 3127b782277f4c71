"""Dataclass configurations, one frozen dataclass per concern, composed.

Each component receives only its own config (``ModelConfig`` for the model, ``LossConfig`` for the loss ...).
Configs load from plain dicts (YAML files) with unknown keys rejected, and can be overridden by CLI flags.
``checked``: the base class, choice lists and checks; ``training`` / ``video``: the configs of ``reid train``
/ ``reid adapt`` and of ``reid process``; ``loading``: YAML and dotted overrides.
"""

from reid.config.checked import (
    ARCHS,
    DATA_FORMATS,
    DETECTOR_PRECISIONS,
    DETECTOR_RUNTIMES,
    DETECTORS,
    DEVICES,
    LINKAGES,
    MINING,
    OPTIMIZERS,
    POOLING,
    SCHEDULES,
    TRACKERS,
    Checked,
    ConfigError,
    Registered,
)
from reid.config.loading import (
    from_dict,
    load_yaml,
    naming_file,
    override,
    to_dict,
    yaml_mapping,
    yaml_problem,
)
from reid.config.training import (
    CACHE_PLACES,
    LR_SCALING,
    AdaptConfig,
    AugmentConfig,
    DataConfig,
    DistributedConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
)
from reid.config.video import DetectorConfig, EmbedConfig, LinkConfig, PipelineConfig, TrackerConfig

__all__ = [
    "ARCHS", "CACHE_PLACES", "DATA_FORMATS", "DETECTOR_PRECISIONS", "DETECTOR_RUNTIMES", "DETECTORS", "DEVICES", "LINKAGES", "LR_SCALING", "MINING", "OPTIMIZERS",
    "POOLING", "SCHEDULES", "TRACKERS", "AdaptConfig", "AugmentConfig", "Checked", "ConfigError", "DataConfig",
    "DetectorConfig", "DistributedConfig", "EmbedConfig", "LinkConfig", "LossConfig", "ModelConfig", "OptimConfig",
    "PipelineConfig", "Registered", "TrackerConfig", "TrainConfig", "from_dict", "load_yaml", "naming_file",
    "override", "to_dict", "yaml_mapping", "yaml_problem",
]
