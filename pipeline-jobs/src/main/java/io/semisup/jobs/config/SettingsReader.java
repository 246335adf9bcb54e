package io.semisup.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.semisup.core.UsageError;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads declared settings out of the resolved {@code semisup} subtree exactly: a whole number must
 * be whole ({@code 2.5} is an error, where Typesafe Config would truncate it to 2), a number must
 * parse, an enum must be one of its values, a number must lie in its range. Every failure is a
 * {@link UsageError} naming the key, the bad value, what is accepted and where the value came from.
 */
final class SettingsReader {

  private final Config config;
  private final Config defaults;

  /**
   * @param config the resolved {@code semisup} subtree
   * @param defaults the {@code semisup} subtree of {@code conf/defaults.conf} (for the hint)
   */
  SettingsReader(Config config, Config defaults) {
    this.config = config;
    this.defaults = defaults;
  }

  int intOf(String key) {
    Setting s = declared(key, SettingType.INT);
    return (int) whole(s, value(s), Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  long longOf(String key) {
    Setting s = declared(key, SettingType.LONG);
    return whole(s, value(s), Long.MIN_VALUE, Long.MAX_VALUE);
  }

  double doubleOf(String key) {
    Setting s = declared(key, SettingType.DOUBLE);
    return real(s, value(s));
  }

  boolean booleanOf(String key) {
    Setting s = declared(key, SettingType.BOOLEAN);
    ConfigValue v = value(s);
    if (v.valueType() == ConfigValueType.BOOLEAN) {
      return (Boolean) v.unwrapped();
    }
    if (v.valueType() == ConfigValueType.STRING) {
      switch (((String) v.unwrapped()).trim().toLowerCase(java.util.Locale.ROOT)) {
        case "true", "yes", "on" -> {
          return true;
        }
        case "false", "no", "off" -> {
          return false;
        }
        default -> { }
      }
    }
    throw bad(s, v);
  }

  /** A {@link SettingType#STRING}, {@link SettingType#PATH} or {@link SettingType#ENUM} value. */
  String stringOf(String key) {
    Setting s = declared(key, SettingType.STRING, SettingType.PATH, SettingType.ENUM);
    ConfigValue v = value(s);
    String text = scalarText(s, v);
    if (s.type() == SettingType.ENUM && !s.values().contains(text)) {
      throw bad(s, v);
    }
    return text;
  }

  List<Integer> intListOf(String key) {
    Setting s = declared(key, SettingType.INT_LIST);
    List<Integer> out = new ArrayList<>();
    for (ConfigValue e : list(s)) {
      out.add((int) whole(s, e, Integer.MIN_VALUE, Integer.MAX_VALUE));
    }
    return List.copyOf(out);
  }

  List<Long> longListOf(String key) {
    Setting s = declared(key, SettingType.LONG_LIST);
    List<Long> out = new ArrayList<>();
    for (ConfigValue e : list(s)) {
      out.add(whole(s, e, Long.MIN_VALUE, Long.MAX_VALUE));
    }
    return List.copyOf(out);
  }

  List<Double> doubleListOf(String key) {
    Setting s = declared(key, SettingType.DOUBLE_LIST);
    List<Double> out = new ArrayList<>();
    for (ConfigValue e : list(s)) {
      out.add(real(s, e));
    }
    return List.copyOf(out);
  }

  /** A {@link SettingType#STRING_LIST} or {@link SettingType#ENUM_LIST} value. */
  List<String> stringListOf(String key) {
    Setting s = declared(key, SettingType.STRING_LIST, SettingType.ENUM_LIST);
    List<String> out = new ArrayList<>();
    for (ConfigValue e : list(s)) {
      String text = scalarText(s, e);
      if (s.type() == SettingType.ENUM_LIST && !s.values().contains(text)) {
        throw bad(s, e);
      }
      out.add(text);
    }
    return List.copyOf(out);
  }

  /** A {@link SettingType#MAP}: free-form keys (quotes removed) to their values as text. */
  Map<String, String> mapOf(String key) {
    Setting s = declared(key, SettingType.MAP);
    ConfigValue v = value(s);
    if (v.valueType() != ConfigValueType.OBJECT) {
      throw bad(s, v);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : ((ConfigObject) v).toConfig().entrySet()) {
      out.put(e.getKey().replace("\"", ""), scalarText(s, e.getValue()));
    }
    return out;
  }

  /** The error for a value that breaks a rule between keys, naming where it came from. */
  UsageError crossKey(String key, String rule) {
    ConfigValue v = config.hasPath(key) ? config.getValue(key) : null;
    return new UsageError("Cannot use " + key + " = " + (v == null ? "(unset)" : shown(v)) + origin(v)
        + ": " + rule);
  }

  private Setting declared(String key, SettingType... types) {
    Setting s = SettingsSchema.get(key);
    for (SettingType t : types) {
      if (s.type() == t) {
        return s;
      }
    }
    throw new IllegalStateException("Setting " + key + " is declared as " + s.type() + ", read as " + List.of(types));
  }

  private ConfigValue value(Setting s) {
    try {
      if (config.hasPath(s.key())) {
        return config.getValue(s.key());
      }
    } catch (ConfigException e) {
      // A parent path holds a non-object value: reported below as a missing key.
    }
    throw new UsageError("Cannot read " + s.key() + ": it has no value (set to null or replaced by a parent key)."
        + " Set it to " + s.expectation() + defaultHint(s) + ".");
  }

  private List<ConfigValue> list(Setting s) {
    ConfigValue v = value(s);
    if (v.valueType() != ConfigValueType.LIST) {
      throw bad(s, v);
    }
    return (ConfigList) v;
  }

  private long whole(Setting s, ConfigValue v, long min, long max) {
    BigDecimal d = number(s, v);
    long n;
    try {
      n = d.longValueExact();
    } catch (ArithmeticException e) {
      throw bad(s, v);
    }
    if (n < min || n > max || !s.range().contains(n)) {
      throw bad(s, v);
    }
    return n;
  }

  private double real(Setting s, ConfigValue v) {
    double d = number(s, v).doubleValue();
    if (!Double.isFinite(d) || !s.range().contains(d)) {
      throw bad(s, v);
    }
    return d;
  }

  private BigDecimal number(Setting s, ConfigValue v) {
    if (v.valueType() != ConfigValueType.NUMBER && v.valueType() != ConfigValueType.STRING) {
      throw bad(s, v);
    }
    try {
      return new BigDecimal(String.valueOf(v.unwrapped()).trim());
    } catch (NumberFormatException e) {
      throw bad(s, v);
    }
  }

  private String scalarText(Setting s, ConfigValue v) {
    return switch (v.valueType()) {
      case STRING, NUMBER, BOOLEAN -> String.valueOf(v.unwrapped());
      default -> throw bad(s, v);
    };
  }

  private UsageError bad(Setting s, ConfigValue v) {
    return new UsageError("Cannot use " + s.key() + " = " + shown(v) + origin(v) + ": " + s.key() + " takes "
        + s.expectation() + ". Fix the value" + defaultHint(s)
        + (s.otherFix().isEmpty() ? "." : ", or " + s.otherFix() + "."));
  }

  private String defaultHint(Setting s) {
    if (!defaults.hasPath(s.key())) {
      return "";
    }
    return " (default: " + shown(defaults.getValue(s.key())) + ")";
  }

  private static String shown(ConfigValue v) {
    if (v.valueType() == ConfigValueType.STRING) {
      String text = (String) v.unwrapped();
      return text.isEmpty() ? "\"\"" : text;
    }
    return v.render(ConfigRenderOptions.concise());
  }

  /** " (from --set select.k=2.5)", " (from user.conf: 3)", or empty when unknown. */
  static String origin(ConfigValue v) {
    if (v == null || v.origin() == null || v.origin().description() == null) {
      return "";
    }
    String where = v.origin().description();
    if (where.startsWith("--set ")) {
      // Typesafe numbers the one line of an override: "--set select.k=2.5: 1".
      where = where.replaceFirst(": \\d+$", "");
    }
    return " (from " + where + ")";
  }
}
