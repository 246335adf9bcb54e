package io.semisup.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.semisup.core.UsageError;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The run's configuration, layered and validated before any cluster work starts.
 *
 * <p>Layers, later wins: {@code conf/defaults.conf} (packaged in the jar, the only place defaults
 * live), an environment file ({@code local.conf} or {@code yarn.conf}), an optional user file, then
 * {@code key=value} overrides from the command line. A key that no setting declares is a typo
 * until proven otherwise, so it is rejected with the nearest declared key instead of being ignored.
 * Every value is then read into typed {@link Settings} and validated, so a bad value fails the
 * command in seconds, before any Spark work.
 */
public final class SemisupConfig {

  private static final ConfigParseOptions DEFAULTS_FILE =
      ConfigParseOptions.defaults().setOriginDescription("conf/defaults.conf");

  private final Config config;
  private final Settings settings;

  private SemisupConfig(Config config) {
    this.config = config;
    this.settings = Settings.from(config, defaultsTree());
  }

  /**
   * Loads and validates the configuration.
   *
   * @param env environment name ({@code local}, {@code yarn}) or null for none
   * @param userFile a HOCON file or null
   * @param overrides {@code key=value} strings, a later one winning over an earlier one for the
   *     same key; keys may omit the {@code semisup.} prefix
   */
  public static SemisupConfig load(String env, File userFile, List<String> overrides) {
    return load(env, null, userFile, overrides);
  }

  /**
   * As {@link #load(String, File, List)}, with a named preset ({@code conf/preset-<name>.conf},
   * e.g. {@code best}) layered above the environment and below the user's file and overrides.
   */
  public static SemisupConfig load(String env, String preset, File userFile, List<String> overrides) {
    Config defaults = defaultsFile();
    Config merged = ConfigFactory.empty();
    List<Config> layers = new ArrayList<>();
    if (overrides != null) {
      // The last --set of a key wins, as in other command lines: layers are merged first-wins.
      for (int i = overrides.size() - 1; i >= 0; i--) {
        layers.add(parseOverride(overrides.get(i)));
      }
    }
    if (userFile != null) {
      if (!userFile.isFile()) {
        throw new UsageError(
            "Cannot read configuration file " + userFile + ": it does not exist. Pass an existing HOCON file to --config.");
      }
      layers.add(parse(() -> ConfigFactory.parseFile(userFile), userFile.toString()));
    }
    if (preset != null && !preset.isEmpty()) {
      layers.add(confFile("preset-" + preset,
          "Cannot use preset '" + preset + "': no preset-" + preset + ".conf in conf/. Known: best, fixres, imagenet, small-colour."));
    }
    if (env != null && !env.isEmpty()) {
      layers.add(confFile(env,
          "Cannot use environment '" + env + "': no " + env + ".conf in conf/. Use local or yarn."));
    }
    for (Config layer : layers) {
      merged = merged.withFallback(layer);
    }
    Config resolved;
    try {
      resolved = merged.withFallback(defaults).resolve();
    } catch (ConfigException e) {
      throw new UsageError("Cannot resolve the configuration: " + e.getMessage()
          + ". Fix the substitution or the value it names.", e);
    }
    rejectUnknownKeys(resolved);
    return new SemisupConfig(resolved.getConfig("semisup"));
  }

  /** A file of conf/ (shipped in the jar), or the error when it is missing or empty. */
  private static Config confFile(String name, String whenMissing) {
    Config c = ConfigFactory.parseResources(SemisupConfig.class, "/" + name + ".conf",
        ConfigParseOptions.defaults().setOriginDescription("conf/" + name + ".conf"));
    if (c.isEmpty()) {
      throw new UsageError(whenMissing);
    }
    return c;
  }

  private static Config defaultsFile() {
    Config defaults = ConfigFactory.parseResources(SemisupConfig.class, "/defaults.conf", DEFAULTS_FILE);
    if (defaults.isEmpty()) {
      throw new IllegalStateException(
          "Cannot load defaults.conf from the class path: the jar is incomplete. Rebuild with mvn package.");
    }
    return defaults;
  }

  /** The {@code semisup} subtree of {@code conf/defaults.conf} alone, resolved. */
  static Config defaultsTree() {
    return DefaultsHolder.TREE;
  }

  /** Parsed once, on first use. */
  private static final class DefaultsHolder {
    static final Config TREE = defaultsFile().resolve().getConfig("semisup");
  }

  private static Config parse(java.util.function.Supplier<Config> parser, String what) {
    try {
      return parser.get();
    } catch (ConfigException e) {
      throw new UsageError("Cannot parse configuration " + what + ": " + e.getMessage() + ". Fix its HOCON syntax.", e);
    }
  }

  /** The defaults alone (tests, --help). */
  public static SemisupConfig defaults() {
    return load(null, null, List.of());
  }

  private static Config parseOverride(String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(
          "Cannot parse override '" + override + "': expected key=value. Write e.g. --set select.k=2000.");
    }
    String key = override.substring(0, eq).trim();
    if (!key.startsWith("semisup.")) {
      key = "semisup." + key;
    }
    String value = override.substring(eq + 1).trim();
    String origin = "--set " + override.trim();
    if (value.contains("//") && !value.startsWith("\"") && !value.startsWith("[") && !value.startsWith("{")) {
      // A URI (hdfs://..., file:///...): HOCON would read "//" as a comment and keep "hdfs:".
      return ConfigFactory.parseMap(Map.of(key, value), origin);
    }
    try {
      return ConfigFactory.parseString(key + " = " + value, ConfigParseOptions.defaults().setOriginDescription(origin));
    } catch (ConfigException e) {
      // Not valid HOCON on its own (e.g. a path with colons): take it as a string.
      return ConfigFactory.parseMap(Map.of(key, value), origin);
    }
  }

  /**
   * Rejects keys no setting declares, each with the nearest declared key ({@code select.kk}: did
   * you mean {@code select.k}?) and where it was set.
   */
  private static void rejectUnknownKeys(Config actual) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : actual.entrySet()) {
      if (!e.getKey().startsWith("semisup.")) {
        continue;
      }
      String key = e.getKey().substring("semisup.".length());
      if (SettingsSchema.declaredKeyOf(key) != null) {
        continue;
      }
      String near = KeySuggestions.nearest(key, SettingsSchema.all().stream().map(Setting::key).toList());
      problems.add("unknown key " + key + (near != null ? "; did you mean " + near + "?" : "")
          + SettingsReader.origin(e.getValue()));
    }
    if (!problems.isEmpty()) {
      problems.sort(null);
      throw new UsageError(String.join("; ", problems)
          + ". Every key is in conf/defaults.conf; `bin/semisup config --markdown` lists them.");
    }
  }

  /** The typed, validated settings (built when this configuration was loaded). */
  public Settings settings() {
    return settings;
  }

  /**
   * Checks that the local inputs of the given stages exist (those shared from {@code base-run}
   * excepted), so that a command fails before Spark starts rather than minutes into a stage.
   *
   * @param stageNames stage names as {@code bin/semisup stages} lists them
   * @throws UsageError naming the key and the missing path
   */
  public void validateFor(Collection<String> stageNames) {
    InputChecks.check(settings, stageNames);
  }

  // The string-key getters below predate the typed settings: new code reads settings() instead,
  // which is validated; these read what Typesafe Config makes of a value (2.5 as an int is 2).

  /** The {@code semisup} subtree. */
  public Config raw() {
    return config;
  }

  public String getString(String path) {
    return config.getString(path);
  }

  public int getInt(String path) {
    return config.getInt(path);
  }

  public long getLong(String path) {
    return config.getLong(path);
  }

  public double getDouble(String path) {
    return config.getDouble(path);
  }

  public boolean getBoolean(String path) {
    return config.getBoolean(path);
  }

  public Config getConfig(String path) {
    return config.getConfig(path);
  }

  /** A copy with one more override (used by the CLI for --run-id, --root, --force). */
  public SemisupConfig with(String path, Object value) {
    return new SemisupConfig(ConfigFactory.parseMap(Map.of(path, value)).withFallback(config));
  }

  /** The resolved configuration as HOCON, for manifests and `bin/semisup config`. */
  public String render() {
    return config.root().render(ConfigRenderOptions.concise().setFormatted(true).setJson(false));
  }

  /** SHA-256 of a subtree's canonical JSON: identifies the settings a stage ran with. */
  public String hash(String path) {
    String json = config.getValue(path).render(ConfigRenderOptions.concise());
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(json.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
