"""Rasa's CRF entity extractor, loaded instead of re-trained at start-up.

Rasa 3.6's `CRFEntityExtractor` stores its *training data* and fits the CRFs again
every time a model is loaded: here that took 80 of the 90 seconds a Rasa server
needed to start (measured with cProfile on `Agent.load`). This subclass also stores
the fitted crfsuite model files and, when they are present, opens them directly.
Older models without the files still load the slow way.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken

logger = logging.getLogger(__name__)

_MODEL_FILE = "crf_{tag}.crfsuite"
_opened: List[str] = []


def _cleanup() -> None:
    for path in _opened:
        try:
            os.unlink(path)
        except OSError:
            pass


atexit.register(_cleanup)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PersistedCRFEntityExtractor(CRFEntityExtractor):
    """`CRFEntityExtractor` that persists its fitted CRFs (same config, same predictions)."""

    def persist(self, dataset: List[List[CRFToken]]) -> None:
        super().persist(dataset)
        if not self.entity_taggers:
            return
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag, tagger in self.entity_taggers.items():
                shutil.copyfile(tagger.modelfile.name, Path(model_dir) / _MODEL_FILE.format(tag=tag))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CRFEntityExtractor:
        import sklearn_crfsuite

        try:
            with model_storage.read_from(resource) as model_dir:
                import rasa.shared.utils.io

                crf_order = rasa.shared.utils.io.read_json_file(Path(model_dir) / "crf_order.json")
                files = {tag: Path(model_dir) / _MODEL_FILE.format(tag=tag) for tag in crf_order}
                if not all(p.is_file() for p in files.values()):
                    logger.info("CRF model files missing: fitting from the stored data (slow)")
                    return super().load(config, model_storage, resource, execution_context, **kwargs)
                taggers = OrderedDict()
                for tag, path in files.items():
                    # the storage folder is temporary: keep a private copy for the process
                    fd, copy = tempfile.mkstemp(prefix="crf-", suffix=".crfsuite")
                    os.close(fd)
                    shutil.copyfile(path, copy)
                    _opened.append(copy)
                    tagger = sklearn_crfsuite.CRF(model_filename=copy)
                    tagger.tagger_  # noqa: B018 - open now, fail at load time rather than on a message
                    taggers[tag] = tagger
        except ValueError:
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
