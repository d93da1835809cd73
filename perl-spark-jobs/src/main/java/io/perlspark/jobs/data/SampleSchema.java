package io.perlspark.jobs.data;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The canonical Parquet schema of a prepared dataset: the HF / EasyR1 shape ({@code images} as a
 * list of {bytes, path}, {@code problem}, {@code answer}, {@code data_source}) plus the columns PeRL
 * needs. {@code response} (an SFT target) and {@code answer_position} (synthetic metadata) are
 * nullable.
 */
public final class SampleSchema {
  private SampleSchema() {}

  public static final StructType IMAGE = new StructType(new StructField[] {
    field("bytes", DataTypes.BinaryType, true), field("path", DataTypes.StringType, true)
  });

  public static final StructType SCHEMA = new StructType(new StructField[] {
    field("id", DataTypes.StringType, false),
    field("images", DataTypes.createArrayType(IMAGE, false), false),
    field("problem", DataTypes.StringType, false),
    field("answer", DataTypes.StringType, false),
    field("answer_kind", DataTypes.StringType, false),
    field("order_sensitive", DataTypes.BooleanType, false),
    field("option_image_slots", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
    field("family", DataTypes.StringType, false),
    field("data_source", DataTypes.StringType, false),
    field("stage_tags", DataTypes.createArrayType(DataTypes.StringType, false), false),
    field("response", DataTypes.StringType, true),
    field("answer_position", DataTypes.IntegerType, true)
  });

  /** The canonical columns, in order, e.g. to select them out of a wider frame. */
  public static org.apache.spark.sql.Column[] columns() {
    StructField[] f = SCHEMA.fields();
    org.apache.spark.sql.Column[] cols = new org.apache.spark.sql.Column[f.length];
    for (int i = 0; i < f.length; i++) {
      cols[i] = org.apache.spark.sql.functions.col(f[i].name());
    }
    return cols;
  }

  private static StructField field(String name, org.apache.spark.sql.types.DataType t, boolean nullable) {
    return new StructField(name, t, nullable, Metadata.empty());
  }

  public static Row toRow(Sample s, String response, Integer answerPosition) {
    List<Row> images = new ArrayList<>(s.images().size());
    for (ImageRef img : s.images()) {
      images.add(RowFactory.create(img.bytes(), img.uri()));
    }
    return RowFactory.create(
        s.id(),
        CollectionConverters.asScala(images).toSeq(),
        s.prompt(),
        s.answer(),
        s.answerKind().wireName(),
        s.orderSensitive(),
        CollectionConverters.asScala(s.optionImageSlots()).toSeq(),
        s.family(),
        s.dataSource(),
        CollectionConverters.asScala(s.stageTags()).toSeq(),
        response,
        answerPosition);
  }

  /** A field of an image struct by name; rows built in memory (see {@link #toRow}) carry no schema and follow {@link #IMAGE}. */
  private static int imageField(Row img, String name) {
    return (img.schema() != null ? img.schema() : IMAGE).fieldIndex(name);
  }

  public static Sample fromRow(Row r) {
    List<Row> imageRows = r.getList(r.fieldIndex("images"));
    List<ImageRef> images = new ArrayList<>(imageRows.size());
    for (Row img : imageRows) {
      int bytesAt = imageField(img, "bytes");
      int pathAt = imageField(img, "path");
      byte[] bytes = img.isNullAt(bytesAt) ? null : (byte[]) img.get(bytesAt);
      String path = img.isNullAt(pathAt) ? null : img.getString(pathAt);
      images.add(ImageRef.of(bytes, path));
    }
    return new Sample(
        r.getString(r.fieldIndex("id")),
        images,
        r.getString(r.fieldIndex("problem")),
        r.getString(r.fieldIndex("answer")),
        AnswerKind.parse(r.getString(r.fieldIndex("answer_kind"))),
        r.getBoolean(r.fieldIndex("order_sensitive")),
        r.<Integer>getList(r.fieldIndex("option_image_slots")),
        r.getString(r.fieldIndex("family")),
        r.getString(r.fieldIndex("data_source")),
        r.<String>getList(r.fieldIndex("stage_tags")));
  }

  public static String response(Row r) {
    int i = r.fieldIndex("response");
    return r.isNullAt(i) ? null : r.getString(i);
  }

  public static Integer answerPosition(Row r) {
    int i = r.fieldIndex("answer_position");
    return r.isNullAt(i) ? null : r.getInt(i);
  }
}
