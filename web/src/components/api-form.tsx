// The dialogs' one form: submitting runs one API call (after a question, where one is wanted),
// says what happened in a toast and hands the result back; when it fails, the API's `detail`
// stays in the form, above its buttons, until the next try. And the one secret field: a password
// input that, holding a mask the API answered, is selected whole on focus so typing replaces it.
import { useMutation } from "@tanstack/react-query";
import type { FormEvent, ReactNode } from "react";
import { Button, type ButtonProps } from "./ui/button.tsx";
import { ErrorNote } from "./ui/card.tsx";
import { Field, Input } from "./ui/input.tsx";
import { useToast } from "./ui/toast.tsx";

export interface ApiFormProps<R> {
  /** The API call a submit makes. */
  submit: () => Promise<R>;
  /** The toast once it is done. */
  done: (result: R) => string;
  onDone: (result: R) => void;
  /** The question asked before submitting; nothing (or an empty string) submits at once. */
  confirm?: () => string | undefined;
  /** The submit button's label. */
  action: ReactNode;
  variant?: ButtonProps["variant"];
  /** A Cancel button beside the submit button. */
  onCancel?: () => void;
  children: ReactNode;
}

export function ApiForm<R>({ submit, done, onDone, confirm, action, variant, onCancel, children }: ApiFormProps<R>) {
  const toast = useToast();
  const mutation = useMutation({
    mutationFn: submit,
    onSuccess: (result) => {
      toast.ok(done(result));
      onDone(result);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const question = confirm?.();
    if (question && !window.confirm(question)) return;
    mutation.mutate();
  };
  return (
    <form className="grid gap-3" onSubmit={onSubmit}>
      {children}
      <ErrorNote error={mutation.error} />
      <div className="flex justify-end gap-2">
        {onCancel ? (
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
        <Button type="submit" variant={variant} busy={mutation.isPending}>
          {action}
        </Button>
      </div>
    </form>
  );
}

export interface SecretFieldProps {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  required?: boolean;
  /** The value is the API's mask of a stored secret: left as it is, the secret is kept. */
  masked?: boolean;
}

export function SecretField({ label, name, value, onChange, hint, required, masked }: SecretFieldProps) {
  return (
    <Field label={label} hint={masked ? "Masked: leave it to keep the current value" : hint}>
      <Input
        name={name}
        type="password"
        autoComplete="new-password"
        required={required}
        value={value}
        onFocus={masked ? (e) => e.currentTarget.select() : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}
