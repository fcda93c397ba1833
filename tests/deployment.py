"""What the deployment tests read: the files under deploy/, the published schemas under
tests/schemas/, and the names of the settings the services take (shared/settings.py)."""
import os
from pathlib import Path

import yaml
from pydantic import AliasChoices

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
# The published CRDs live in the team folder beside the checkout (../shared), not in the project.
CRDS = Path(os.environ.get("LINLI_CRDS_DIR", ROOT.parent / "shared" / "schemas" / "kubernetes-crds"))


def yaml_documents(path: Path) -> list[dict]:
    # libyaml's loader where PyYAML has it: the RabbitmqCluster CRD alone is 350 KB
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [document for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader) if document]


def setting_names() -> set[str]:
    """Every environment variable Settings reads: each field's name and its aliases, upper-case."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        if isinstance(field.validation_alias, AliasChoices):
            names |= {str(choice).upper() for choice in field.validation_alias.choices}
    return names
