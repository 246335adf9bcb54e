package io.semisup.jobs.config;

/** The kind of value a setting holds; decides how it is read and how errors describe it. */
public enum SettingType {
  INT("int", "a whole number"),
  LONG("long", "a whole number"),
  DOUBLE("double", "a number"),
  BOOLEAN("boolean", "true or false"),
  STRING("string", "a string"),
  ENUM("enum", "one of"),
  PATH("path", "a local path or Hadoop URI (empty: unset)"),
  INT_LIST("list of int", "a list of whole numbers, e.g. [1, 2]"),
  LONG_LIST("list of long", "a list of whole numbers, e.g. [1, 2]"),
  DOUBLE_LIST("list of double", "a list of numbers, e.g. [0.5, 1.0]"),
  STRING_LIST("list of string", "a list of strings, e.g. [\"a\", \"b\"]"),
  ENUM_LIST("list of enum", "a list of values, each one of"),
  MAP("map", "an object of key = value pairs");

  private final String label;
  private final String expectation;

  SettingType(String label, String expectation) {
    this.label = label;
    this.expectation = expectation;
  }

  /** Short name for the reference table ({@code int}, {@code list of enum}, ...). */
  public String label() {
    return label;
  }

  /** What a value of this type looks like, for error messages. */
  String expectation() {
    return expectation;
  }
}
