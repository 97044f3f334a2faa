import type * as React from "react";
import { useState } from "react";
import { messageOf } from "@/api/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button, type ButtonProps } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";

export interface Field {
  name: string;
  label: string;
  type?: "text" | "email" | "password" | "number" | "url";
  options?: readonly string[];
  required?: boolean;
  initial?: string;
}

/**
 * A create/edit form in a dialog: the fields, the API's refusal shown in place, and — for what the API shows once
 * (a TOTP QR, an API key, a signing secret) — a result rendered after success instead of closing.
 */
export function FormDialog({
  label,
  title,
  description,
  fields,
  submitLabel,
  variant,
  onSubmit,
  renderResult,
}: {
  label: string;
  title: string;
  description?: string;
  fields: Field[];
  submitLabel?: string;
  variant?: ButtonProps["variant"];
  onSubmit(values: Record<string, string>): Promise<unknown>;
  renderResult?: (result: unknown) => React.ReactNode;
}) {
  const initial = () => Object.fromEntries(fields.map((f) => [f.name, f.initial ?? f.options?.[0] ?? ""]));
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<unknown>(undefined);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await onSubmit(values);
      if (renderResult) setResult(answer);
      else setOpen(false);
      setValues(initial());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) {
          setError(null);
          setResult(undefined);
        }
      }}
    >
      <DialogTrigger asChild>
        <Button size="sm" variant={variant}>
          {label}
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{title}</DialogTitle>
          {description && <DialogDescription>{description}</DialogDescription>}
        </DialogHeader>
        {result !== undefined && renderResult ? (
          <div className="grid gap-3">
            {renderResult(result)}
            <DialogFooter>
              <Button onClick={() => setOpen(false)}>Done</Button>
            </DialogFooter>
          </div>
        ) : (
          <form onSubmit={submit} className="grid gap-3">
            {fields.map((field) => (
              <div key={field.name} className="grid gap-1.5">
                <Label htmlFor={`field-${field.name}`}>{field.label}</Label>
                {field.options ? (
                  <NativeSelect
                    id={`field-${field.name}`}
                    value={values[field.name]}
                    onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  >
                    {field.options.map((o) => (
                      <option key={o} value={o}>
                        {o.replaceAll("_", " ")}
                      </option>
                    ))}
                  </NativeSelect>
                ) : (
                  <Input
                    id={`field-${field.name}`}
                    type={field.type ?? "text"}
                    required={field.required !== false}
                    autoComplete="off"
                    value={values[field.name]}
                    onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  />
                )}
              </div>
            ))}
            {error ? (
              <Alert variant="destructive">
                <AlertDescription>{messageOf(error)}</AlertDescription>
              </Alert>
            ) : null}
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" disabled={busy}>
                {busy ? "Working…" : (submitLabel ?? "Save")}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}

/** Something the API shows once: say so, and make it easy to select. */
export function ShownOnce({ label, value }: { label: string; value: string }) {
  return (
    <div className="grid gap-1">
      <p className="text-sm font-medium">{label} — shown only now; store it safely.</p>
      <code className="block rounded-md bg-muted p-2 text-xs break-all select-all">{value}</code>
    </div>
  );
}
