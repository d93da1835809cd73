/**
 * LoRA for the policy: only small adapters train, the base weights stay frozen (and shared) on
 * the executors, and the result is a PEFT adapter folder that vLLM, PEFT and transformers load.
 *
 * <p>{@link io.perlspark.model.lora.LoraConfig} says what is adapted, {@link
 * io.perlspark.model.lora.LoraAdapters} holds the trainable A/B pairs and computes {@code y = x
 * W^T + scale (x A^T) B^T}, {@link io.perlspark.model.lora.PeftAdapterIO} writes and reads the
 * folder, {@link io.perlspark.model.lora.LoraMerge} folds an adapter into its base weight.
 *
 * <p>PEFT conventions followed, and where they were checked (huggingface/peft at commit 5d602fd,
 * 2026-08; vllm-project/vllm's lora/peft_helper.py and lora/utils.py):
 * <ul>
 *   <li>targeting: a list entry matches a module name equal to it or ending with {@code "." +
 *       entry}; a string is {@code re.fullmatch}ed (tuners_utils.check_target_module_exists,
 *       utils/other.match_target_against_key);
 *   <li>init ({@code init_lora_weights=True}): {@code kaiming_uniform_(lora_A, a=sqrt(5))}, {@code
 *       zeros_(lora_B)} (tuners/lora/layer.py reset_lora_parameters);
 *   <li>scaling {@code lora_alpha / r}, rsLoRA {@code lora_alpha / sqrt(r)} (layer.py
 *       update_layer; vLLM's PEFTHelper computes the same);
 *   <li>merge: {@code W += (B @ A) * scaling} (layer.py get_delta_weight, merge);
 *   <li>files {@code adapter_config.json}, {@code adapter_model.safetensors} (utils/constants.py);
 *       keys {@code base_model.model.<module>.lora_A.weight}, adapter name removed on save
 *       (utils/save_and_load.py get_peft_model_state_dict); vLLM parses the same form
 *       (lora/utils.py parse_fine_tuned_lora_name) and refuses modules_to_save and DoRA
 *       (lora/peft_helper.py). Keys use the module names of the live transformers model, which
 *       PEFT matches against: for Qwen2.5-VL ({@code Qwen25VlPeftNames}) {@code
 *       model.language_model.layers.N}, not the checkpoint's {@code model.layers.N}. PEFT used to
 *       rename older keys through the model's {@code _checkpoint_conversion_mapping}
 *       (peft_model.py from_pretrained), which transformers 5 no longer has: PEFT 0.21 with
 *       transformers 5.18 left checkpoint-named adapters at B = 0 ({@code bench/hf-load-check.sh}).
 * </ul>
 */
package io.perlspark.model.lora;
