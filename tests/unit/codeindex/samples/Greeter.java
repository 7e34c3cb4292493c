package com.example;

import java.util.List;

/** Greets people. */
public class Greeter {
    private final String greeting;

    public Greeter(String greeting) {
        this.greeting = greeting;
    }

    // Greet everyone in the list.
    public String greetAll(List<String> names) {
        return greeting + " " + String.join(", ", names);
    }
}
