package io.perlspark.common.data;

/** Why a dataset row was not accepted. Every rejected row is written with one of these. */
public enum RejectReason {
  MISSING_FIELD,
  WRONG_TYPE,
  MALFORMED_ROW,
  INVALID_UTF8,
  EMPTY_PROMPT,
  EMPTY_ANSWER,
  PLACEHOLDER_MISMATCH,
  NO_IMAGES,
  TOO_MANY_IMAGES,
  IMAGE_UNREADABLE,
  IMAGE_EMPTY,
  IMAGE_TOO_LARGE,
  IMAGE_PATH_OUTSIDE_ROOT,
  IMAGE_NOT_FOUND,
  DUPLICATE_ID,
  /** Same prompt, images and answer as a row kept earlier (under another id). */
  DUPLICATE_CONTENT,
  PROMPT_TOO_LONG,
  BAD_ANSWER_KIND,
  ANSWER_NOT_PARSEABLE,
  BAD_OPTION_SLOTS;

  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
