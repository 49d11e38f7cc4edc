"""BodyPose3DNet (+ PoseClassificationNet) from the model store, with the agent's pose state.

The pose engine is what the model registry owns for pose: both backends, the classifier's
labels and the per-track pose book. Keeping the book here (not in the task) means a reload
that rebuilds the task list keeps every track's skeleton history and stable class, the same
way engines outlive reloads. Models open through the path PeopleNet uses (ONNX Runtime, or the
cached TensorRT engine) and are checked against their packaged manifests; a classifier whose
output size differs from its label list is refused here, at start-up, with both numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from edge_agent.inference.backend import InferenceBackend
from edge_agent.models.store import load_model_record
from edge_agent.pipeline.people_models import _open_checked, _opener
from edge_agent.pose.poseclass import check_label_count
from edge_agent.pose.track_book import PoseBookConfig, PoseTrackBook
from edge_agent.settings import AgentSettings
from edge_agent.settings.pose import PoseSettings


@dataclass
class PoseEngine:
    """The pose models and the state they build up over a track's life."""

    estimator: InferenceBackend
    estimator_max_batch: int
    classifier: Optional[InferenceBackend]
    classifier_max_batch: int
    labels: List[str]
    book: PoseTrackBook
    settings: PoseSettings
    standin: bool

    def close(self) -> None:
        """Release both backends (the registry calls it at stop)."""
        self.estimator.close()
        if self.classifier is not None:
            self.classifier.close()


PoseLoader = Callable[[AgentSettings], PoseEngine]


def load_pose_engine(settings: AgentSettings, root: Path = Path("/")) -> PoseEngine:
    """Both pose models on the configured backend, checked, with an empty pose book."""
    models = settings.models
    cfg = models.pose
    opener = _opener(settings, root, None, None, None)
    est_rec = load_model_record(models.dir, cfg.model)
    estimator = _open_checked(opener, est_rec)
    classifier: Optional[InferenceBackend] = None
    try:
        labels: List[str] = []
        cls_batch = 1
        standin = est_rec.standin
        if cfg.classifier_model:
            cls_rec = load_model_record(models.dir, cfg.classifier_model)
            classifier = _open_checked(opener, cls_rec)
            labels = list(cls_rec.manifest.labels)
            check_label_count(int(classifier.outputs[0].shape[1]), labels, cls_rec.name)
            cls_batch = cls_rec.manifest.max_batch
            standin = standin or cls_rec.standin
        return PoseEngine(estimator, est_rec.manifest.max_batch, classifier, cls_batch, labels,
                          PoseTrackBook(PoseBookConfig.from_settings(cfg)), cfg, standin)
    except Exception:
        estimator.close()
        if classifier is not None:
            classifier.close()
        raise
