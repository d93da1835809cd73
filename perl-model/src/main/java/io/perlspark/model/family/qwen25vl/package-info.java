/**
 * Qwen2.5-VL on DJL (PyTorch engine, float32), loaded from a Hugging Face checkpoint folder and
 * checked against transformers by {@code Qwen25VlParityTest}.
 *
 * <ul>
 *   <li>{@link io.perlspark.model.family.qwen25vl.Qwen25VlConfig}: {@code config.json} in the flat
 *       Hub or nested v5 layout, plus the eos ids of {@code generation_config.json}.
 *   <li>{@link io.perlspark.model.family.qwen25vl.Qwen25VlWeights}: parameter names (Hub names, the
 *       public contract), shapes and order; loading single or sharded safetensors.
 *   <li>{@link io.perlspark.model.family.qwen25vl.Qwen25VlRope}: M-RoPE positions and rope deltas
 *       ({@code get_rope_index}), the 2-D vision rotary, the window order.
 *   <li>{@link io.perlspark.model.family.qwen25vl.Qwen25VlModel}: forward (with intermediates),
 *       generation, scoring, and the differentiable response log-prob path.
 * </ul>
 *
 * <p>For a {@code PolicyModel} adapter: a prompt is a {@link
 * io.perlspark.model.family.qwen25vl.Qwen25VlPrompt} (rendered, image pads expanded, per-image
 * pixels and grid, as the processor produces them); {@code generate}, {@code score} and {@code
 * responseTensors} take lists of them; {@code parameters()}, {@code flatParameters()} and {@code
 * setFlatParameters} give the learner its fixed flat layout.
 */
package io.perlspark.model.family.qwen25vl;
