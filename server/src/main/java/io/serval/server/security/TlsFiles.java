package io.serval.server.security;

import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The PEM files of {@code tls:}, read and checked at start so that a bad file is a configuration error naming the
 * field and the file, not a failure inside the TLS stack: the certificate chain, the PKCS#8 private key (which
 * must belong to the chain's first certificate) and the CA certificates client certificates must chain to.
 */
final class TlsFiles {
  private static final Pattern PRIVATE_KEY =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
  private static final String CONVERT = "openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem";

  final PrivateKey key;
  final List<X509Certificate> chain;
  final @Nullable List<X509Certificate> clientCas;

  private TlsFiles(PrivateKey key, List<X509Certificate> chain, @Nullable List<X509Certificate> clientCas) {
    this.key = key;
    this.chain = chain;
    this.clientCas = clientCas;
  }

  /** Reads and checks the files of {@code tls}, reporting every problem at once. */
  static TlsFiles read(ServerConfig.Tls tls) throws ConfigException {
    List<String> errors = new ArrayList<>();
    List<X509Certificate> chain = certificates("tls.cert", tls.cert(), errors);
    Path clientCa = tls.clientCa();
    List<X509Certificate> clientCas = clientCa == null ? null : certificates("tls.client_ca", clientCa, errors);
    PrivateKey key = chain.isEmpty() ? null : privateKey(tls.key(), chain.get(0), errors);
    if (!errors.isEmpty() || key == null) {
      throw new ConfigException(errors);
    }
    return new TlsFiles(key, chain, clientCas);
  }

  private static List<X509Certificate> certificates(String field, Path file, List<String> errors) {
    List<X509Certificate> certificates = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      CertificateFactory.getInstance("X.509").generateCertificates(in)
          .forEach(certificate -> certificates.add((X509Certificate) certificate));
    } catch (IOException e) {
      errors.add(field + ": cannot read '" + file + "': " + e.getMessage());
      return certificates;
    } catch (CertificateException e) {
      errors.add(field + ": '" + file + "' is not a PEM certificate file: " + e.getMessage());
      return certificates;
    }
    if (certificates.isEmpty()) {
      errors.add(field + ": '" + file + "' holds no certificate (expected: PEM, -----BEGIN CERTIFICATE-----)");
    }
    return certificates;
  }

  private static @Nullable PrivateKey privateKey(Path file, X509Certificate certificate, List<String> errors) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      errors.add("tls.key: cannot read '" + file + "': " + e.getMessage());
      return null;
    }
    Matcher matcher = PRIVATE_KEY.matcher(pem);
    if (!matcher.find()) {
      String found = pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") ? "an encrypted key"
          : pem.contains("PRIVATE KEY-----") ? "a key in a legacy format (PKCS#1 or SEC1)" : "no private key";
      errors.add("tls.key: '" + file + "' holds " + found + " (expected: an unencrypted PEM PKCS#8 key,"
          + " -----BEGIN PRIVATE KEY-----; convert with " + CONVERT + ")");
      return null;
    }
    String algorithm = certificate.getPublicKey().getAlgorithm();
    PrivateKey key;
    try {
      byte[] der = Base64.getMimeDecoder().decode(matcher.group(1));
      key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      errors.add("tls.key: '" + file + "' is not a " + algorithm + " private key, as the certificate of tls.cert"
          + " needs: " + e.getMessage());
      return null;
    }
    if (!belongsTo(key, certificate)) {
      errors.add("tls.key: '" + file + "' is not the private key of the first certificate in tls.cert ("
          + certificate.getSubjectX500Principal().getName() + ")");
      return null;
    }
    return key;
  }

  /** Whether {@code key} signs what {@code certificate}'s public key verifies; true for algorithms not checked. */
  private static boolean belongsTo(PrivateKey key, X509Certificate certificate) {
    String algorithm;
    switch (key.getAlgorithm()) {
      case "RSA":
        algorithm = "SHA256withRSA";
        break;
      case "EC":
        algorithm = "SHA256withECDSA";
        break;
      case "EdDSA":
      case "Ed25519":
      case "Ed448":
        algorithm = "EdDSA";
        break;
      default:
        return true;
    }
    byte[] probe = "serval-tls-key-check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
