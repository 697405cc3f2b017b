"""Strict validation of KServe manifests against KServe's own Python SDK models.

    usage: validate_kserve.py FILE...

Every YAML document must be a KServe resource (group serving.kserve.io) whose model class exists in the `kserve`
package (V1alpha1ServingRuntime, V1beta1InferenceService, ...). The document is walked against that class's
`openapi_types` and `attribute_map`, down through every nested model: KServe's own classes, and the `kubernetes`
client's (V1Container, V1Probe, ...) for the Kubernetes types KServe embeds. A key the model does not declare, a
scalar of the wrong type, a list where a mapping belongs (or the reverse) and a duplicate key are errors, each
printed as `FILE document N (KIND NAME): PATH: message`. Exits 1 when there is any error, 0 otherwise (printing
one `ok` line per document).
"""

import datetime
import difflib
import importlib.metadata
import re
import sys

import kserve.models
import kubernetes.client.models
import yaml

KSERVE_GROUP = "serving.kserve.io"

# Type names the generated models use without defining a class for them. ResourceQuantity is Kubernetes'
# resource.Quantity (a string such as "500m", or a number); K8sIoApiAppsV1DeploymentStrategy is apps/v1
# DeploymentStrategy, which the kubernetes client names V1DeploymentStrategy.
QUANTITY = "ResourceQuantity"
ALIASES = {"K8sIoApiAppsV1DeploymentStrategy": "V1DeploymentStrategy"}

LIST = re.compile(r"^(?:list|List)\[(.+)\]$")
DICT = re.compile(r"^(?:dict\(str, (.+)\)|Dict\[str, (.+)\])$")


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML would keep the last silently)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def model_class(name):
    name = ALIASES.get(name, name)
    for module in (kserve.models, kubernetes.client.models):
        cls = getattr(module, name, None)
        if cls is not None and hasattr(cls, "openapi_types"):
            return cls
    return None


def describe(value):
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "%s %r" % (type(value).__name__, value)


def check(value, type_name, path, errors):
    """Appends to errors every way value does not fit the OpenAPI type type_name; path names value."""
    if value is None:
        return
    match = LIST.match(type_name)
    if match:
        if not isinstance(value, list):
            errors.append("%s: is %s (expected: a list of %s)" % (path, describe(value), match.group(1)))
            return
        for i, item in enumerate(value):
            check(item, match.group(1), "%s[%d]" % (path, i), errors)
        return
    match = DICT.match(type_name)
    if match:
        if not isinstance(value, dict):
            errors.append("%s: is %s (expected: a mapping)" % (path, describe(value)))
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append("%s: key %r is not a string" % (path, key))
            check(item, match.group(1) or match.group(2), "%s.%s" % (path, key), errors)
        return
    if type_name == "object":
        return
    if type_name == "str":
        if not isinstance(value, str):
            errors.append("%s: is %s (expected: a string; quote it)" % (path, describe(value)))
        return
    if type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append("%s: is %s (expected: an integer)" % (path, describe(value)))
        return
    if type_name == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append("%s: is %s (expected: a number)" % (path, describe(value)))
        return
    if type_name == "bool":
        if not isinstance(value, bool):
            errors.append("%s: is %s (expected: true or false)" % (path, describe(value)))
        return
    if type_name in ("datetime", "date"):
        if not isinstance(value, (str, datetime.date)):
            errors.append("%s: is %s (expected: a timestamp)" % (path, describe(value)))
        return
    if type_name == QUANTITY:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append("%s: is %s (expected: a quantity such as \"500m\" or \"2Gi\")" % (path, describe(value)))
        return
    cls = model_class(type_name)
    if cls is None:
        errors.append("%s: type %s is in neither kserve.models nor kubernetes.client.models" % (path, type_name))
        return
    if not isinstance(value, dict):
        errors.append("%s: is %s (expected: a mapping, %s)" % (path, describe(value), type_name))
        return
    fields = {json_key: attribute for attribute, json_key in cls.attribute_map.items()}
    for key, item in value.items():
        child = "%s.%s" % (path, key) if path else str(key)
        attribute = fields.get(key)
        if attribute is None:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = " (did you mean %s?)" % close[0] if close else ""
            errors.append("%s: unknown field %r: %s has no such field%s" % (child, key, type_name, hint))
            continue
        check(item, cls.openapi_types[attribute], child, errors)


def validate(file):
    """Returns the error lines of one file and the ok lines of its valid documents."""
    with open(file, encoding="utf-8") as stream:
        text = stream.read()
    try:
        documents = list(yaml.load_all(text, Loader=UniqueKeyLoader))
    except yaml.YAMLError as e:
        return ["%s: not valid YAML: %s" % (file, e)], []
    errors, oks = [], []
    index = 0
    for document in documents:
        if document is None:
            continue
        index += 1
        if not isinstance(document, dict):
            errors.append("%s document %d: is %s (expected: a mapping)" % (file, index, describe(document)))
            continue
        api_version = str(document.get("apiVersion", ""))
        kind = str(document.get("kind", ""))
        name = (document.get("metadata") or {}).get("name", "?")
        where = "%s document %d (%s %s)" % (file, index, kind or "no kind", name)
        group, _, version = api_version.rpartition("/")
        cls_name = "V%s%s" % (version[1:], kind) if version.startswith("v") else ""
        if group != KSERVE_GROUP or not hasattr(getattr(kserve.models, cls_name, None), "openapi_types"):
            errors.append("%s: apiVersion %r kind %r is not a resource kserve.models defines"
                          % (where, api_version, kind))
            continue
        found = []
        check(document, cls_name, "", found)
        errors.extend("%s: %s" % (where, error) for error in found)
        if not found:
            oks.append("%s: ok (%s)" % (where, cls_name))
    return errors, oks


def main(files):
    if not files:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    all_errors = []
    for file in files:
        errors, oks = validate(file)
        all_errors.extend(errors)
        for line in oks:
            print(line)
    for line in all_errors:
        print(line)
    print("kserve %s, kubernetes client %s: %d error(s)"
          % (importlib.metadata.version("kserve"), importlib.metadata.version("kubernetes"), len(all_errors)))
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
