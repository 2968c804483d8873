"""S/MIME signature verification against real openssl signatures, made at test time.

Every case is also checked by openssl itself (``smime -verify``/``cms -verify`` with
``-purpose smimesign``) as the oracle: its exit status must agree with our valid/not-valid.
openssl does not compare the From address, so for the oracle "signer-mismatch" counts as valid.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.crypto import smime

assert shutil.which("openssl"), "openssl is missing: scripts/setup --test installs it"

TEXT = (
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    b"Befund: eGFR 41 ml/min.\r\nKontrolle in einer Woche.\r\n"
)
ALICE = "alice@clinic.example"


def run(*args: str | Path, data: bytes | None = None, check: bool = True) -> bytes:
    done = subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, check=False, timeout=60
    )
    if check and done.returncode:
        raise AssertionError(f"openssl {args}: {done.stderr.decode(errors='replace')}")
    return done.stdout


# ---- a small PKI ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    cert: Path
    key: Path
    email: str


def _ext(directory: Path, name: str, lines: list[str]) -> Path:
    path = directory / f"{name}.cnf"
    path.write_text("[v3]\n" + "\n".join(lines) + "\n")
    return path


def _new_key(directory: Path, name: str, kind: str) -> list[str | Path]:
    key = directory / f"{name}.key"
    algorithm = ["-newkey", "rsa:2048"]
    if kind == "ec":
        algorithm = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    return [*algorithm, "-nodes", "-keyout", key]


def make_root(directory: Path, name: str, cn: str) -> Person:
    run(
        "req", "-x509", *_new_key(directory, name, "rsa"), "-out", directory / f"{name}.pem",
        "-days", "3650", "-subj", f"/CN={cn}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return Person(directory / f"{name}.pem", directory / f"{name}.key", "")


def make_cert(
    directory: Path,
    name: str,
    cn: str,
    issuer: Person,
    *,
    mail: str = "",
    kind: str = "rsa",
    ca: bool = False,
    usage: str = "digitalSignature,keyEncipherment",
    eku: str = "emailProtection",
) -> Person:
    csr = directory / f"{name}.csr"
    run("req", "-new", *_new_key(directory, name, kind), "-subj", f"/CN={cn}", "-out", csr)
    if ca:
        lines = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]
    else:
        lines = ["basicConstraints=CA:FALSE", f"keyUsage=critical,{usage}"]
        lines += [f"extendedKeyUsage={eku}"] if eku else []
        lines += [f"subjectAltName=email:{mail}"] if mail else []
    lines += ["subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"]
    run(
        "x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key,
        "-set_serial", str(random.Random(name).getrandbits(63)), "-days", "365",
        "-extfile", _ext(directory, name, lines), "-extensions", "v3",
        "-out", directory / f"{name}.pem",
    )  # fmt: skip
    return Person(directory / f"{name}.pem", directory / f"{name}.key", mail)


def make_expired(directory: Path, name: str, issuer: Person, mail: str) -> Person:
    """Built with cryptography: openssl x509 cannot date a certificate in the past."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca_cert = x509.load_pem_x509_certificate(issuer.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(issuer.key.read_bytes(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old Alice")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now - dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(mail)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Person(directory / f"{name}.pem", directory / f"{name}.key", mail)


@dataclass(frozen=True)
class Pki:
    directory: Path
    ca: Person
    rogue_ca: Person
    intermediate: Person
    people: dict[str, Person]

    def anchors(self, ca: Person | None = None) -> list[x509.Certificate]:
        return [x509.load_pem_x509_certificate((ca or self.ca).cert.read_bytes())]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = make_root(d, "ca", "Clinic CA")
    rogue = make_root(d, "rogue", "Rogue CA")
    inter = make_cert(d, "inter", "Clinic Staff CA", ca, ca=True)
    people = {
        "alice": make_cert(d, "alice", "Alice", ca, mail=ALICE),
        "alice-ec": make_cert(d, "alice-ec", "Alice EC", ca, mail=ALICE, kind="ec"),
        "carol": make_cert(d, "carol", "Carol", inter, mail="carol@clinic.example"),
        "eve": make_cert(d, "eve", "Eve", rogue, mail=ALICE),
        "bob": make_cert(d, "bob", "Bob", ca, mail="bob@other.example"),
        "no-sign": make_cert(d, "no-sign", "Nosign", ca, mail=ALICE, usage="keyEncipherment"),
        "server": make_cert(d, "server", "Server", ca, mail=ALICE, eku="serverAuth"),
        "old": make_expired(d, "old", ca, ALICE),
    }
    return Pki(d, ca, rogue, inter, people)


# ---- signing and splitting -----------------------------------------------------------------------


def sign_detached(
    pki: Pki, who: str, content: bytes = TEXT, *extra: str | Path, tool: str = "smime"
) -> bytes:
    """A whole multipart/signed message as openssl writes it."""
    person = pki.people[who]
    return run(
        tool, "-sign", "-signer", person.cert, "-inkey", person.key,
        "-from", person.email or ALICE, "-to", "lena@clinic.example", "-subject", "Befund",
        *extra, data=content,
    )  # fmt: skip


def sign_opaque(pki: Pki, who: str, *extra: str, content: bytes = TEXT) -> bytes:
    person = pki.people[who]
    return run(
        "cms", "-sign", "-nodetach", "-binary", "-outform", "DER",
        "-signer", person.cert, "-inkey", person.key, *extra, data=content,
    )  # fmt: skip


def split_signed(raw: bytes) -> tuple[bytes, bytes]:
    """The first part's raw bytes (as signed) and the decoded signature of a multipart/signed."""
    boundary = email.message_from_bytes(raw).get_boundary()
    assert boundary
    delimiter = re.compile(rb"(?:\r?\n|^)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*\r?\n?")
    marks = list(delimiter.finditer(raw))
    assert len(marks) >= 3, "a multipart/signed has two parts"
    content = raw[marks[0].end() : marks[1].start()]
    signature_part = email.message_from_bytes(raw[marks[1].end() : marks[2].start()])
    signature = signature_part.get_payload(decode=True)
    assert isinstance(signature, bytes)
    return content, signature


def with_signature(raw: bytes, signature: bytes) -> bytes:
    """The message with its signature part's base64 body replaced."""
    content, old = split_signed(raw)
    old_b64 = re.search(
        rb"\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n\r?\n?--", raw[raw.index(content) :]
    )
    assert old_b64
    new = base64.encodebytes(signature).rstrip(b"\n")
    return raw.replace(old_b64.group(1), new)


# ---- the oracle ----------------------------------------------------------------------------------


def oracle(tmp: Path, ca: Person, *, message: bytes | None = None, opaque: bytes | None = None,
           pair: tuple[bytes, bytes] | None = None) -> bool:  # fmt: skip
    common = ["-CAfile", ca.cert, "-purpose", "smimesign", "-out", "/dev/null"]
    if message is not None:
        (tmp / "msg.eml").write_bytes(message)
        args = ["cms", "-verify", "-in", tmp / "msg.eml", *common]  # smime lacks RSA-PSS
    elif opaque is not None:
        (tmp / "opaque.der").write_bytes(opaque)
        args = ["cms", "-verify", "-inform", "DER", "-in", tmp / "opaque.der", *common]
    else:
        assert pair is not None
        (tmp / "content.bin").write_bytes(pair[0])
        (tmp / "sig.der").write_bytes(pair[1])
        args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", tmp / "sig.der",
                "-content", tmp / "content.bin", *common]  # fmt: skip
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=60)
    return done.returncode == 0


def agree(result: smime.SmimeSignature, oracle_ok: bool) -> None:
    ours_ok = result.status in ("valid", "signer-mismatch")  # openssl does not read From
    assert ours_ok == oracle_ok, (result, oracle_ok)
    assert result.explanation and "\n" not in result.explanation


# ---- detached signatures -------------------------------------------------------------------------

DETACHED = {
    # name: (signer, extra openssl args, tool, From, anchor, expected status)
    "valid-rsa": ("alice", [], "smime", "Alice <Alice@Clinic.Example>", "ca", "valid"),
    "valid-ec": ("alice-ec", [], "smime", ALICE, "ca", "valid"),
    "valid-cms-tool": ("alice", [], "cms", ALICE, "ca", "valid"),
    "intermediate": (
        "carol",
        ["-certfile", "inter.pem"],
        "smime",
        "carol@clinic.example",
        "ca",
        "valid",
    ),  # fmt: skip
    "pss": ("alice", ["-keyopt", "rsa_padding_mode:pss"], "cms", ALICE, "ca", "valid"),
    "sha384": ("alice", ["-md", "sha384"], "smime", ALICE, "ca", "valid"),
    "sha512-ec": ("alice-ec", ["-md", "sha512"], "cms", ALICE, "ca", "valid"),
    "sha1": ("alice", ["-md", "sha1"], "smime", ALICE, "ca", "valid"),
    "subject-key-id": ("alice", ["-keyid"], "cms", ALICE, "ca", "valid"),
    "no-signed-attrs": ("alice", ["-noattr"], "cms", ALICE, "ca", "valid"),
    "untrusted": ("eve", [], "smime", ALICE, "ca", "untrusted"),
    "expired": ("old", [], "smime", ALICE, "ca", "expired"),
    "from-mismatch": ("bob", [], "smime", ALICE, "ca", "signer-mismatch"),
    "nocerts": ("alice", ["-nocerts"], "smime", ALICE, "ca", "unknown-key"),
    "no-sign-usage": ("no-sign", [], "smime", ALICE, "ca", "invalid"),
    "server-eku": ("server", [], "smime", ALICE, "ca", "invalid"),
}


@pytest.mark.parametrize("name", list(DETACHED))
def test_detached_case_agrees_with_openssl(pki: Pki, tmp_path: Path, name: str) -> None:
    who, extra, tool, sender, ca_name, expected = DETACHED[name]
    extra = [str(pki.directory / e) if e.endswith(".pem") else e for e in extra]
    raw = sign_detached(pki, who, TEXT, *extra, tool=tool)
    content, signature = split_signed(raw)
    result = smime.verify_detached(content, signature, pki.anchors(), sender)
    assert result.status == expected, result
    agree(result, oracle(tmp_path, pki.ca, message=raw))
    assert result.content is None
    if result.status != "unknown-key":
        assert result.certificate_sha256 and len(result.certificate_sha256) == 64
        assert result.signer_email in (pki.people[who].email, None)
    if expected == "valid":
        assert result.chain[-1] == "Clinic CA" and result.chain[0] == result.signer
        assert (
            result.signer_email or "?"
        ) in result.explanation and "Clinic CA" in result.explanation
        assert (result.digest_algorithm or "").startswith("sha")
        if name != "no-signed-attrs":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.signing_time or "")
    if name == "intermediate":
        assert result.chain == ("Carol", "Clinic Staff CA", "Clinic CA")
    if name == "sha1":
        assert "weak" in result.explanation
    if name == "sha384":
        assert result.digest_algorithm == "sha384"
    if name == "expired":
        assert "expired on" in result.explanation
    if name == "from-mismatch":
        assert smime.verify_detached(content, signature, pki.anchors(), None).status == "valid"
    if name == "server-eku":
        assert "extended key usage" in result.explanation


def test_signature_encodings_are_all_read(pki: Pki) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(signature) + b"-----END PKCS7-----\n"
    for form in (signature, base64.encodebytes(signature), base64.b64encode(signature), pem,
                 base64.encodebytes(signature).replace(b"\n", b"\r\n")):  # fmt: skip
        assert smime.verify_detached(content, form, pki.anchors(), ALICE).status == "valid"


def test_tampered_content_is_invalid(pki: Pki, tmp_path: Path) -> None:
    raw = sign_detached(pki, "alice")
    altered = raw.replace(b"eGFR 41", b"eGFR 47", 1)
    content, signature = split_signed(altered)
    result = smime.verify_detached(content, signature, pki.anchors(), ALICE)
    assert result.status == "invalid"
    assert "altered" in result.explanation and "message digest" in result.explanation
    agree(result, oracle(tmp_path, pki.ca, message=altered))


def test_tampered_signature_bytes_are_invalid(pki: Pki, tmp_path: Path) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    altered = bytearray(signature)
    altered[-7] ^= 0x01  # inside the signature value, the SignerInfo's last field
    result = smime.verify_detached(content, bytes(altered), pki.anchors(), ALICE)
    assert result.status == "invalid", result
    agree(result, oracle(tmp_path, pki.ca, pair=(content, bytes(altered))))
    assert oracle(tmp_path, pki.ca, pair=(content, signature))  # the unaltered one passes


@pytest.mark.parametrize(
    "garbage",
    [b"", b"garbage", b"\x30\x82\xff\xff\x06", b"\x30\x80", b"MIIB" * 10, b"\x00" * 64,
     b"-----BEGIN PKCS7-----\nnot base64 at all\n-----END PKCS7-----\n"],
)  # fmt: skip
def test_garbage_signature_is_invalid_without_exception(
    pki: Pki, tmp_path: Path, garbage: bytes
) -> None:
    result = smime.verify_detached(TEXT, garbage, pki.anchors(), ALICE)
    assert result.status == "invalid" and "cannot" in result.explanation
    agree(result, oracle(tmp_path, pki.ca, pair=(TEXT, garbage)))


def test_truncated_signature_is_invalid(pki: Pki, tmp_path: Path) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    for cut in (1, 10, len(signature) // 2, len(signature) - 1):
        result = smime.verify_detached(content, signature[:cut], pki.anchors(), ALICE)
        assert result.status == "invalid"
        agree(result, oracle(tmp_path, pki.ca, pair=(content, signature[:cut])))


def test_other_cms_types_are_not_signatures(pki: Pki) -> None:
    envelope = run("cms", "-encrypt", "-outform", "DER", pki.people["alice"].cert, data=TEXT)
    result = smime.verify_detached(TEXT, envelope, pki.anchors(), ALICE)
    assert result.status == "invalid" and "enveloped_data" in result.explanation


def test_lf_only_content_signed_as_crlf_is_valid(pki: Pki, tmp_path: Path) -> None:
    raw = sign_detached(pki, "alice", TEXT.replace(b"\r\n", b"\n"))
    stored = raw.replace(b"\r\n", b"\n")  # as a Unix mailbox keeps it
    content, signature = split_signed(stored)
    assert b"\r" not in content
    result = smime.verify_detached(content, signature, pki.anchors(), ALICE)
    assert result.status == "valid", result
    agree(result, oracle(tmp_path, pki.ca, message=stored))


def test_crlf_content_signed_as_lf_binary_is_valid(pki: Pki) -> None:
    lf = TEXT.replace(b"\r\n", b"\n")
    raw = sign_detached(pki, "alice", lf, "-binary", tool="cms")
    content, signature = split_signed(raw)
    crlf = content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert smime.verify_detached(crlf, signature, pki.anchors(), ALICE).status == "valid"


def test_no_anchor_is_untrusted_and_other_anchor_too(pki: Pki) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    assert smime.verify_detached(content, signature, [], ALICE).status == "untrusted"
    rogue = pki.anchors(pki.rogue_ca)
    result = smime.verify_detached(content, signature, rogue, ALICE)
    assert result.status == "untrusted" and result.chain == ()


def test_valid_when_signed_but_expired_now(pki: Pki) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
    result = smime.verify_detached(content, signature, pki.anchors(), ALICE, now=later)
    assert result.status == "expired" and "not valid now" in result.explanation
    assert result.chain  # the chain was checked at signing time, so it is not "untrusted"


def test_expired_from_an_untrusted_ca_reads_untrusted(pki: Pki) -> None:
    content, signature = split_signed(sign_detached(pki, "old"))
    assert smime.verify_detached(content, signature, [], ALICE).status == "untrusted"


# ---- opaque signed-data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,who,extra,expected",
    [
        ("opaque-rsa", "alice", [], "valid"),
        ("opaque-ec", "alice-ec", [], "valid"),
        ("opaque-pss-sha384", "alice", ["-md", "sha384", "-keyopt", "rsa_padding_mode:pss"],
         "valid"),
        ("opaque-ber-stream", "alice", ["-stream"], "valid"),
        ("opaque-untrusted", "eve", [], "untrusted"),
        ("opaque-expired", "old", [], "expired"),
        ("opaque-nocerts", "alice", ["-nocerts"], "unknown-key"),
    ],
)  # fmt: skip
def test_opaque_case_agrees_with_openssl(
    pki: Pki, tmp_path: Path, name: str, who: str, extra: list[str], expected: str
) -> None:
    der = sign_opaque(pki, who, *extra)
    if name == "opaque-ber-stream":
        assert der[:2] == b"\x30\x80"  # indefinite length, as gpgsm writes
    result = smime.verify_opaque(der, pki.anchors(), ALICE)
    assert result.status == expected, result
    agree(result, oracle(tmp_path, pki.ca, opaque=der))
    assert result.content == TEXT
    assert smime.verify_opaque(base64.encodebytes(der), pki.anchors(), ALICE) == result


def test_opaque_tampered_content_is_invalid(pki: Pki, tmp_path: Path) -> None:
    der = sign_opaque(pki, "alice")
    altered = der.replace(b"eGFR 41", b"eGFR 47", 1)
    result = smime.verify_opaque(altered, pki.anchors(), ALICE)
    assert result.status == "invalid" and "message digest" in result.explanation
    agree(result, oracle(tmp_path, pki.ca, opaque=altered))


def test_opaque_pem_and_detached_given_to_opaque(pki: Pki) -> None:
    alice = pki.people["alice"]
    pem = run("cms", "-sign", "-nodetach", "-binary", "-outform", "PEM",
              "-signer", alice.cert, "-inkey", alice.key, data=TEXT)  # fmt: skip
    assert smime.verify_opaque(pem, pki.anchors(), ALICE).status == "valid"
    _content, detached = split_signed(sign_detached(pki, "alice"))
    result = smime.verify_opaque(detached, pki.anchors(), ALICE)
    assert result.status == "invalid" and "no content" in result.explanation


def test_system_anchors_are_cached_certificates() -> None:
    first = smime.system_anchors()
    assert all(isinstance(c, x509.Certificate) for c in first)
    assert smime.system_anchors() == first


# ---- mutation fuzz -------------------------------------------------------------------------------


def _signed_ranges(signature: bytes) -> list[range]:
    """Byte ranges that the signature covers: the signed attributes and the signature value."""
    signer = asn1_cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
    ranges = []
    for piece in (signer["signed_attrs"].dump(), signer["signature"].dump()):
        start = signature.index(piece)
        ranges.append(range(start, start + len(piece)))
    return ranges


def test_mutation_fuzz_never_raises_and_never_validates_signed_changes(pki: Pki) -> None:
    content, signature = split_signed(sign_detached(pki, "alice"))
    anchors = pki.anchors()
    assert smime.verify_detached(content, signature, anchors, ALICE).status == "valid"
    signed = _signed_ranges(signature)
    rng = random.Random(20240607)
    statuses: dict[str, int] = {}
    for _ in range(300):
        data = bytearray(signature)
        touched: set[int] = set()
        mode = rng.choice(["flip", "flip", "flip", "insert", "delete", "truncate"])
        if mode == "flip":
            for _n in range(rng.randint(1, 4)):
                at = rng.randrange(len(data))
                data[at] = (data[at] + rng.randint(1, 255)) % 256
                touched.add(at)
        elif mode == "insert":
            at = rng.randrange(len(data))
            data.insert(at, rng.randrange(256))
            touched.add(at)
        elif mode == "delete":
            at = rng.randrange(len(data))
            del data[at]
            touched.add(at)
        else:
            at = rng.randrange(len(data))
            del data[at:]
            touched.update(range(at, len(signature)))
        mutated = bytes(data)
        result = smime.verify_detached(content, mutated, anchors, ALICE)
        assert isinstance(result, smime.SmimeSignature) and result.explanation
        statuses[result.status] = statuses.get(result.status, 0) + 1
        if mutated != signature and any(t in r for t in touched for r in signed):
            assert result.status != "valid", (mode, sorted(touched), result)
        # whatever the mutation, altered content is never valid
        if rng.random() < 0.2:
            assert smime.verify_detached(content + b"x", mutated, anchors, ALICE).status != "valid"
    assert statuses.get("invalid", 0) > 100
