"""A test report as JUnit XML, the shape GitLab and Jenkins read: a `testsuite` per test file, a
`testcase` per case (classname: the policy's name, name: the case's), with `failure` or `error`.

GitLab shows `testcase` classname as the suite and the element text of `failure` / `error`;
Jenkins shows the `message` attribute too. So `message` holds the first line and the text holds
everything. `file` and `line` are not in the original schema but both tools accept them (pytest
writes them too). A test file that ran nothing gets one `testcase` with an `error`, so that CI
shows it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..core.diagnostics import Diagnostic, render_text
from ..core.source import SourceFile
from .model import CaseResult, FileResult, TestReport


def junit_xml(report: TestReport) -> str:
    """The report as a JUnit XML document (UTF-8, with an XML declaration)."""
    sources = report.sources()
    root = ET.Element("testsuites", name="policy test")
    _counts(root, report.files, report.duration)
    for file in report.files:
        suite = ET.SubElement(root, "testsuite", name=file.path)
        _counts(suite, [file], file.duration)
        for case in file.cases:
            _case(suite, case, file, sources)
        if file.problems:
            element = ET.SubElement(
                suite, "testcase", classname=file.policy_name, name="(test file)", file=file.path, time="0"
            )
            _error(element, "the test file has problems, so none of its cases ran", file.problems, sources)
    if report.problems:
        suite = ET.SubElement(root, "testsuite", name="(paths)", tests="1", failures="0", errors="1", skipped="0")
        suite.set("time", "0")
        element = ET.SubElement(suite, "testcase", classname="policy test", name="(paths)", time="0")
        _error(element, "a path names nothing to test", report.problems, sources)
        root.set("tests", str(int(root.get("tests", "0")) + 1))
        root.set("errors", str(int(root.get("errors", "0")) + 1))
    ET.indent(root)
    for element in root.iter():  # XML 1.0 cannot hold most control characters, even escaped
        element.text = _xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, _xml_text(value) or "")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str | None) -> str | None:
    """Text XML 1.0 allows: a character it does not is written as `\\xNN` (CI would reject the file)."""
    if text is None:
        return None
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _counts(element: ET.Element, files: list[FileResult] | tuple[FileResult, ...], duration: float) -> None:
    cases = [case for file in files for case in file.cases]
    bad = sum(1 for file in files if file.problems)
    element.set("tests", str(len(cases) + bad))
    element.set("failures", str(sum(1 for case in cases if case.status == "failed")))
    element.set("errors", str(sum(1 for case in cases if case.status == "error") + bad))
    element.set("skipped", "0")
    element.set("time", f"{duration:.3f}")


def _case(suite: ET.Element, case: CaseResult, file: FileResult, sources: dict[str, SourceFile]) -> None:
    element = ET.SubElement(
        suite,
        "testcase",
        classname=case.policy,
        name=case.name,
        file=case.file,
        line=str(case.line),
        time=f"{case.duration:.6f}",
    )
    if case.status == "failed":
        failure = ET.SubElement(element, "failure", type="failure", message=case.mismatches[0].text)
        failure.text = "\n".join(m.text for m in case.mismatches) + "\n"
    elif case.status == "error" and file.policy_problems:
        _error(element, f"the policy `{file.policy_file}` has errors", file.policy_problems, sources)
    elif case.status == "error":
        _error(element, case.problems[0].message if case.problems else "error", case.problems, sources)


def _error(element: ET.Element, message: str, problems: tuple[Diagnostic, ...], sources: dict[str, SourceFile]) -> None:
    code = problems[0].code.value if problems else "error"
    node = ET.SubElement(element, "error", type=code, message=message)
    node.text = render_text(problems, sources) + "\n"
